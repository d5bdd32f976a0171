// A canvas-shaped client of the control plane, typed only by what openapi-typescript generates from GET /openapi/v1.json
// (api.d.ts, written beside this file by the test that compiles it: OpenApiContractTests). It makes the calls the canvas
// makes, with the fields the canvas sends — modelled ones and the ones this control plane accepts and ignores — so a
// change of the contract that would break the canvas breaks this compile. The @ts-expect-error lines prove the types are
// real (a line that no longer errors fails the compile too).
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type JsonBody<Op> = Op extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
type Answer<Op, Status extends number> = Op extends { responses: { [S in Status]: { content: { "application/json": infer A } } } } ? A : never;
type Query<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

type CreateOp = paths["/workspaces"]["post"];
type GetOp = paths["/workspaces/{id}"]["get"];
type PatchOp = paths["/workspaces/{id}"]["patch"];
type DeleteOp = paths["/workspaces/{id}"]["delete"];
type RestartOp = paths["/workspaces/{id}/restart"]["post"];
type PauseOp = paths["/workspaces/{id}/pause"]["post"];
type ResumeOp = paths["/workspaces/{id}/resume"]["post"];

export type CreateWorkspace = JsonBody<CreateOp>;
export type Workspace = Answer<GetOp, 200>;
export type Problem = Schemas["Problem"] | Schemas["ConfirmationRequiredProblem"] | Schemas["BusyProblem"] | Schemas["DescendantsProblem"]
  | Schemas["RemovedProblem"] | Schemas["VersionMismatchProblem"] | Schemas["TerminatePendingProblem"];

/** A 4xx/5xx answer: the stable code the canvas branches on, and the whole document. */
export class ProblemError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(`${problem.error}: ${problem.title}`);
  }
}

export class CanvasApi {
  constructor(private readonly baseUrl: string, private readonly token: string) {}

  createWorkspace(body: CreateWorkspace, idempotencyKey?: string): Promise<Answer<CreateOp, 201>> {
    return this.send("POST", "/workspaces", body, idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {});
  }

  getWorkspace(id: string, query: Query<GetOp> = {}): Promise<Workspace> {
    return this.send("GET", `/workspaces/${id}${search(query)}`);
  }

  patchWorkspace(id: string, body: JsonBody<PatchOp>, version?: number): Promise<Answer<PatchOp, 200> | Answer<PatchOp, 202>> {
    return this.send("PATCH", `/workspaces/${id}`, body, version === undefined ? {} : { "If-Match": `"${version}"` });
  }

  restartWorkspace(id: string): Promise<Answer<RestartOp, 202> | Answer<RestartOp, 200>> {
    return this.send("POST", `/workspaces/${id}/restart`);
  }

  pauseWorkspace(id: string, query: Query<PauseOp>): Promise<Answer<PauseOp, 202>> {
    return this.send("POST", `/workspaces/${id}/pause${search(query)}`);
  }

  resumeWorkspace(id: string, query: Query<ResumeOp>): Promise<Answer<ResumeOp, 202>> {
    return this.send("POST", `/workspaces/${id}/resume${search(query)}`);
  }

  deleteWorkspace(id: string, query: Query<DeleteOp>, confirmName?: string): Promise<Answer<DeleteOp, 200>> {
    return this.send("DELETE", `/workspaces/${id}${search(query)}`, undefined, confirmName ? { "X-Confirm-Name": confirmName } : {});
  }

  private async send<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      throw new ProblemError(response.status, (await response.json()) as Problem);
    }

    return (await response.json()) as T;
  }
}

function search(query: Record<string, string | number | boolean | null | undefined>): string {
  const pairs = Object.entries(query).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return pairs.length ? `?${pairs.join("&")}` : "";
}

/** What the canvas does with a new agent: create it where it was drawn, rename it, restart it, pause and resume its subtree, delete it. */
export async function canvasSession(api: CanvasApi, parentId: string | null): Promise<string[]> {
  const seen: string[] = [];
  const created = await api.createWorkspace({
    name: "research agent",
    parent_id: parentId,
    runtime: "agent",
    tier: 2,
    canvas: { x: 120.5, y: -40 },
    compute: { provider: "sim-east", instance_type: "t3.large", data_persistence: "persist" },
    // sent by the canvas, accepted and ignored by the control plane
    role: "researcher",
    template: "default",
    model: "claude-sonnet",
    llm_provider: "anthropic",
    secrets: { API_KEY: "…" },
    budget_limit: 25,
  }, "canvas-create-1");
  const token: string = created.auth_token;
  seen.push(created.id, created.status, token, created.operation?.kind ?? "no operation");

  const workspace = await api.getWorkspace(created.id, { include_removed: false });
  seen.push(workspace.name, workspace.compute.provider, workspace.compute.instance_type ?? "default type", String(workspace.x));
  if (workspace.operation) {
    seen.push(workspace.operation.id, workspace.operation.kind, workspace.operation.state);
  }

  const patched = await api.patchWorkspace(created.id, { name: "renamed agent", x: 10, y: 20, collapsed: true }, workspace.version);
  seen.push(patched.status);
  const switched = await api.patchWorkspace(created.id, { compute: { provider: "sim-west" }, confirm_data_loss: true });
  if ("operation" in switched) {
    seen.push(switched.operation.id);
  }

  const restarted = await api.restartWorkspace(created.id);
  seen.push(restarted.status);
  const paused = await api.pauseWorkspace(created.id, { cascade: true });
  seen.push(paused.operation.id, ...paused.cascade.map((c) => c.skipped ?? c.operation?.id ?? c.id));
  const resumed = await api.resumeWorkspace(created.id, { cascade: true });
  seen.push(resumed.status);

  try {
    await api.deleteWorkspace(created.id, { confirm: false });
  } catch (e) {
    if (e instanceof ProblemError && e.problem.error === "CONFIRMATION_REQUIRED" && "children" in e.problem) {
      seen.push(...e.problem.children.map((c) => c.name), String(e.problem.children_count));
    }
  }

  const deleted = await api.deleteWorkspace(created.id, { confirm: true }, "renamed agent");
  seen.push(deleted.status, String(deleted.cascade_deleted));
  return seen;
}

/** Mistakes the generated types must refuse. */
export function refusedByTheTypes(api: CanvasApi, workspace: Workspace): void {
  // @ts-expect-error the name is a string
  void api.createWorkspace({ name: 42 });
  // @ts-expect-error a create needs a name
  void api.createWorkspace({ runtime: "agent" });
  // @ts-expect-error confirm is a boolean query value
  void api.deleteWorkspace(workspace.id, { confirm: "yes" });
  // @ts-expect-error a workspace answer has no such field
  void workspace.role;
  // @ts-expect-error a PATCH field is never null
  void api.patchWorkspace(workspace.id, { name: null });
}
