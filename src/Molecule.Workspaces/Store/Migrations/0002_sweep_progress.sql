-- Where each sweep's paged passes stopped, per provider (DESIGN §7): the next tick resumes there, in whichever
-- process runs it, so a Lambda cold start or a second process keeps the place instead of starting over.
CREATE TABLE sweep_progress (
    sweep        text NOT NULL,
    pass         text NOT NULL,
    provider     text NOT NULL,
    -- the last key done (a workspace id) or the cloud's next-page token; NULL: the start of the list
    resume_after text NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (sweep, pass, provider)
);

-- the paged passes walk one provider's rows in id order
CREATE INDEX workspaces_online_by_provider ON workspaces (instance_provider, id)
    WHERE status = 'online' AND instance_id IS NOT NULL;
CREATE INDEX workspaces_removed_by_provider ON workspaces (instance_provider, id)
    WHERE status = 'removed' AND instance_id IS NOT NULL;
CREATE INDEX pending_terminations_due_by_provider ON pending_terminations (provider, next_attempt_at);
-- active operations that lost their claim are found by how long nothing has written them
CREATE INDEX operations_active_updated ON operations (updated_at) WHERE state IN ('pending', 'running');
