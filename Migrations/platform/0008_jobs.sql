-- The platform's job queue: work off the request path (mail now; channels, LLM answers and imports later). Any number
-- of processes share it: a worker claims due jobs with FOR UPDATE SKIP LOCKED and a lease, commits, does the work
-- with no transaction open, and records the outcome. While a job runs, run_at is its lease's end: a worker that dies
-- leaves a job that becomes due again when the lease runs out.
CREATE TABLE platform.jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The tenant the job works for; the worker resolves it again through the directory and the door.
    tenant_id uuid REFERENCES platform.tenants (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.-]{1,63}$'),
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- queued → running → done | queued (retry, with backoff) | failed (kept, listed on the platform panel)
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    run_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts integer NOT NULL DEFAULT 10 CHECK (max_attempts >= 1),
    -- The claim in force: only the worker holding it may record the outcome.
    lease_token uuid,
    leased_by text,
    last_error text CHECK (length(last_error) <= 2000),
    -- Enqueueing the same key twice makes one job.
    idempotency_key text UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX jobs_due ON platform.jobs (run_at, id) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_failed ON platform.jobs (finished_at DESC) WHERE status = 'failed';
CREATE INDEX jobs_done ON platform.jobs (finished_at) WHERE status = 'done';
CREATE INDEX jobs_tenant ON platform.jobs (tenant_id);

-- Workers wait on this channel instead of polling; the payload is empty (nothing of a job travels in a notification).
CREATE FUNCTION platform.notify_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('vitrina_jobs', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_queued AFTER INSERT ON platform.jobs FOR EACH STATEMENT EXECUTE FUNCTION platform.notify_jobs();

-- Mail is sent by the queue now (kind mail.send); the outbox row keeps what the platform panel shows. Mail waiting
-- when this runs gets its job.
INSERT INTO platform.jobs (tenant_id, kind, payload, run_at, attempts)
SELECT NULL, 'mail.send', jsonb_build_object('outbox_id', id), next_attempt_at, attempts FROM platform.outbox WHERE status = 'queued';
ALTER TABLE platform.outbox DROP COLUMN next_attempt_at;
