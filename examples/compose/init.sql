-- The table the compose demo's JDBC source reads (run once, when the
-- postgres container first starts).
CREATE TABLE customers (
    id         SERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT,
    balance    NUMERIC(12, 2) NOT NULL DEFAULT 0,
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO customers (name, email, balance) VALUES
    ('Ada Lovelace', 'ada@example.com', 120.50),
    ('Grace Hopper', 'grace@example.com', 99.99);
