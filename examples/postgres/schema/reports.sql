-- Read-only views for dashboards. This file sorts first but uses tables and types declared in
-- the other files.

CREATE VIEW open_issues AS
SELECT p.key || '-' || i.number AS reference,
       i.id,
       i.title,
       i.status,
       i.priority,
       u.display_name AS assignee,
       i.created_at
FROM issues i
JOIN projects p ON p.id = i.project_id
LEFT JOIN users u ON u.id = i.assignee_id
WHERE i.status IN ('open', 'in_progress');

COMMENT ON VIEW open_issues IS 'Issues still being worked on, with their human-readable reference';

CREATE MATERIALIZED VIEW project_issue_counts AS
SELECT project_id, status, count(*) AS issues
FROM issues
GROUP BY project_id, status;

COMMENT ON MATERIALIZED VIEW project_issue_counts IS 'Refreshed by a nightly job (REFRESH MATERIALIZED VIEW)';
