-- Accounts. Referenced by projects, issues and comments (in files that sort earlier).

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL CHECK (email LIKE '%_@_%'),
    display_name   TEXT NOT NULL,
    is_admin       INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_at     TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deactivated_at TEXT
);

-- Email addresses are unique regardless of case (an expression index).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
