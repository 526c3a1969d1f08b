-- Enum types. This file sorts after tracker.sql, which uses them: schema orders the
-- statements itself, so files can be split by topic rather than by dependency.

CREATE TYPE issue_status AS ENUM ('open', 'in_progress', 'resolved', 'closed');

CREATE TYPE issue_priority AS ENUM ('low', 'normal', 'high', 'urgent');

COMMENT ON TYPE issue_status IS 'Life cycle of an issue; closed issues have closed_at set';
