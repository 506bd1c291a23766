-- The warehouse's own tables: the raw lines exactly as received, and the load registry.
-- Run at every connection that writes; every statement is idempotent.

CREATE TABLE IF NOT EXISTS retail (
    invoice_no   text,
    stock_code   text,
    description  text,
    quantity     integer,
    invoice_date timestamp,
    unit_price   numeric(12,3),
    customer_id  integer,
    country      text,
    load_id      integer          -- the load_registry entry that brought the line
);

CREATE TABLE IF NOT EXISTS load_registry (
    load_id        integer PRIMARY KEY,
    file_name      text NOT NULL,
    file_size      bigint NOT NULL,
    sha256         text NOT NULL,
    file_format    text NOT NULL,
    loaded_at      timestamp NOT NULL,   -- UTC
    rows_loaded    bigint NOT NULL,
    rows_rejected  bigint NOT NULL,
    rows_overlap   bigint NOT NULL,      -- lines already in the warehouse before this load
    first_invoice  timestamp,
    last_invoice   timestamp,
    duration_s     double precision NOT NULL,
    is_sample      boolean NOT NULL
);
