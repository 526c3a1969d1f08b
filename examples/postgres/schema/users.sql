-- Accounts. Referenced by projects, issues and comments (in files that sort earlier).

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL,
    display_name   text NOT NULL,
    is_admin       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz,
    CONSTRAINT users_email_check CHECK (email LIKE '%_@_%')
);

-- Email addresses are unique regardless of case (an expression index).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

COMMENT ON TABLE users IS 'People who can sign in';
COMMENT ON COLUMN users.deactivated_at IS 'Set when the account is closed; the row is kept for history';
