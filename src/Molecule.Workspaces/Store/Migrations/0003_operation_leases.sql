-- Several local replicas on one database (DESIGN §5.4): an operation is walked by one process at a time. The process
-- that walks it holds its lease — a replica id and an expiry it keeps moving forward while it walks. A process that
-- dies stops renewing, and once the lease has expired another replica takes it over, in the same statement making
-- its own execution the operation's owner (operations.execution_arn), so the old walker's next step aborts.
-- Both NULL: nobody holds the operation (never leased, or released by a graceful stop).
ALTER TABLE operations
    ADD COLUMN lease_holder     text NULL,
    ADD COLUMN lease_expires_at timestamptz NULL,
    ADD CONSTRAINT operations_lease_whole CHECK ((lease_holder IS NULL) = (lease_expires_at IS NULL));

-- the adoption scan pages active operations by (created_at, id)
CREATE INDEX operations_active_keyset ON operations (created_at, id) WHERE state IN ('pending', 'running');
