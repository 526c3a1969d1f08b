-- Projects, issues, comments and labels.

CREATE TABLE projects (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE CHECK (key = upper(key) AND length(key) BETWEEN 2 AND 10),
    name       TEXT NOT NULL,
    owner_id   INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE issues (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'resolved', 'closed')),
    priority    TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    reporter_id INTEGER NOT NULL REFERENCES users (id),
    assignee_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    closed_at   TEXT,
    CONSTRAINT issues_project_number_key UNIQUE (project_id, number),
    CONSTRAINT issues_closed_at_check CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);

-- The work queue: only issues that are still being worked on (a partial index).
CREATE INDEX issues_open_assignee_idx ON issues (assignee_id, priority)
    WHERE status IN ('open', 'in_progress');

-- Closing an issue records when (a trigger; its body is plain SQL).
CREATE TRIGGER issues_set_closed_at AFTER UPDATE OF status ON issues
    WHEN NEW.status = 'closed' AND OLD.status <> 'closed'
BEGIN
    UPDATE issues SET closed_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    issue_id   INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    -- Replies point at the comment they answer (a self-reference).
    parent_id  INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    edited_at  TEXT,
    CONSTRAINT comments_not_own_parent CHECK (parent_id <> id)
);

CREATE INDEX comments_issue_created_idx ON comments (issue_id, created_at);

CREATE TABLE labels (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL COLLATE NOCASE,
    color      TEXT NOT NULL DEFAULT '#888888' CHECK (color GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
    UNIQUE (project_id, name)
);

CREATE TABLE issue_labels (
    issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    label_id INTEGER NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    PRIMARY KEY (issue_id, label_id)
) WITHOUT ROWID;
