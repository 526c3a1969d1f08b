-- Read-only views for dashboards. This file sorts first but uses tables declared in the other
-- files: schema orders the statements itself, so files can be split by topic.

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

CREATE VIEW project_issue_counts AS
SELECT project_id, status, count(*) AS issues
FROM issues
GROUP BY project_id, status;
