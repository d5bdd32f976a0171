-- The whole data model of DESIGN §3. Times are timestamptz written by the application's TimeProvider,
-- so a test that moves the clock moves every window with it.

CREATE TABLE workspaces (
    id                     uuid PRIMARY KEY,
    name                   text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    parent_id              uuid NULL REFERENCES workspaces (id),
    status                 text NOT NULL CHECK (status IN ('provisioning', 'online', 'offline', 'failed', 'paused', 'removed')),
    runtime                text NOT NULL,
    tier                   int NOT NULL DEFAULT 1,
    x                      double precision NOT NULL DEFAULT 0,
    y                      double precision NOT NULL DEFAULT 0,
    collapsed              boolean NOT NULL DEFAULT false,
    compute                jsonb NOT NULL,
    instance_id            text NULL,
    instance_provider      text NULL,
    url                    text NULL,
    claim_id               uuid NULL,
    claim_kind             text NULL,
    claim_expires_at       timestamptz NULL,
    prior_status           text NULL,
    heal_count             int NOT NULL DEFAULT 0,
    heal_window_started_at timestamptz NULL,
    version                int NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    removed_at             timestamptz NULL,
    -- a box and the provider that owns it are written together, never one without the other
    CHECK ((instance_id IS NULL) = (instance_provider IS NULL)),
    CHECK ((claim_id IS NULL) = (claim_expires_at IS NULL))
);

-- Names are unique among live siblings; a removed workspace frees its name.
CREATE UNIQUE INDEX workspaces_live_name
    ON workspaces ((coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid)), name)
    WHERE status <> 'removed';

CREATE INDEX workspaces_parent ON workspaces (parent_id) WHERE parent_id IS NOT NULL;
-- keyset paging of GET /workspaces
CREATE INDEX workspaces_live_created ON workspaces (created_at, id) WHERE status <> 'removed';
-- the sweeps' work lists stay small and indexed
CREATE INDEX workspaces_removed_with_box ON workspaces (id) WHERE status = 'removed' AND instance_id IS NOT NULL;
CREATE INDEX workspaces_online_with_box ON workspaces (id) WHERE status = 'online' AND instance_id IS NOT NULL;
CREATE INDEX workspaces_claim_expiry ON workspaces (claim_expires_at) WHERE claim_id IS NOT NULL;
CREATE INDEX workspaces_instance ON workspaces (instance_provider, instance_id) WHERE instance_id IS NOT NULL;

CREATE TABLE operations (
    id             uuid PRIMARY KEY,
    workspace_id   uuid NOT NULL REFERENCES workspaces (id),
    kind           text NOT NULL CHECK (kind IN ('create', 'restart', 'heal', 'switch-provider', 'pause', 'resume')),
    state          text NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'rolled_back', 'aborted', 'failed')),
    step           text NULL,
    input          jsonb NOT NULL DEFAULT '{}',
    progress       jsonb NOT NULL DEFAULT '{}',
    error          text NULL,
    execution_arn  text NULL,
    dispatch_count int NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    started_at     timestamptz NULL,
    finished_at    timestamptz NULL
);

CREATE INDEX operations_workspace ON operations (workspace_id, created_at DESC);
CREATE INDEX operations_active ON operations (state, created_at) WHERE state IN ('pending', 'running');

CREATE TABLE structure_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id uuid NULL,
    operation_id uuid NULL,
    event_type   text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL
);

CREATE INDEX structure_events_workspace ON structure_events (workspace_id, id DESC);
CREATE INDEX structure_events_type ON structure_events (event_type, id DESC);

CREATE TABLE pending_terminations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider        text NOT NULL,
    instance_id     text NOT NULL,
    workspace_id    uuid NULL,
    reason          text NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text NULL,
    created_at      timestamptz NOT NULL,
    UNIQUE (provider, instance_id)
);

CREATE INDEX pending_terminations_due ON pending_terminations (next_attempt_at);

CREATE TABLE workspace_tokens (
    token_sha256 bytea PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz NULL
);

CREATE INDEX workspace_tokens_workspace ON workspace_tokens (workspace_id);

CREATE TABLE idempotency_keys (
    key            text PRIMARY KEY,
    request_sha256 bytea NOT NULL,
    status_code    int NULL,
    response       jsonb NULL,
    created_at     timestamptz NOT NULL
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- The simulated cloud (DESIGN §8): its instances live in Postgres so they survive restarts and are
-- shared by every process of a deployment, like a real cloud's.
CREATE TABLE sim_instances (
    provider      text NOT NULL,
    instance_id   text NOT NULL,
    client_token  text NOT NULL,
    instance_type text NOT NULL,
    state         text NOT NULL CHECK (state IN ('pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated')),
    tags          jsonb NOT NULL DEFAULT '{}',
    launched_at   timestamptz NOT NULL,
    running_at    timestamptz NOT NULL,
    visible_at    timestamptz NOT NULL,
    terminated_at timestamptz NULL,
    PRIMARY KEY (provider, instance_id),
    UNIQUE (provider, client_token)
);

CREATE INDEX sim_instances_live ON sim_instances (provider, instance_id) WHERE state NOT IN ('terminated');
