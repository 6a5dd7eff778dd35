/**
 * Whose limits a request spends. The API's limits belong to the organization, not to the API key:
 * every key of an organization draws from the same buckets, and every answer names the
 * organization in `anthropic-organization-id`. A workspace may set lower limits of its own; a key
 * of that workspace is then held to the workspace's buckets and still counts against the
 * organization's, and its answers' rate-limit headers show whichever limit is tighter.
 *
 * The `organizations` option lists organizations with their keys (and workspaces with theirs);
 * every key it does not list belongs to the default organization, whose limits are the top-level
 * `rpm`/`itpm`/`otpm`/`classLimits`/`tier`. So by default every key shares one organization.
 */
import type { ClassBudget, OtpmRule } from './class-budget.js';
import { RateLimits } from './rate-limits.js';
import type { ClassLimitSet, Tier } from './tiers.js';

/** A workspace with limits below its organization's. */
export interface WorkspaceSpec extends ClassLimitSet {
  /** Sent as `anthropic-workspace-id`. */
  id: string;
  /** API keys of this workspace. */
  keys: string[];
  /** Limits of particular model classes, as the top-level `classLimits`. */
  classLimits?: Record<string, ClassLimitSet>;
}

/** An organization: its keys, and its limits where they differ from the top-level ones. */
export interface OrganizationSpec extends ClassLimitSet {
  /** Sent as `anthropic-organization-id`. */
  id: string;
  /** API keys of its default workspace. */
  keys: string[];
  classLimits?: Record<string, ClassLimitSet>;
  tier?: Tier;
  workspaces?: WorkspaceSpec[];
}

/** The organization every key not listed in `organizations` belongs to. */
export const DEFAULT_ORGANIZATION_ID = '5f3a9c1e-0d2b-4c6a-9e7f-2b8d4e6a0c01';

/** The top-level limits (the default organization's, and the fallback of every listed one). */
export interface TopLevelLimits {
  rpm?: number;
  itpm?: number;
  otpm?: number;
  classLimits?: Record<string, ClassLimitSet>;
  tier?: Tier;
  burstSeconds: number;
  otpmRule: OtpmRule;
  organizations?: OrganizationSpec[];
}

/** Whose limits one key spends: its organization's, and its workspace's when it has one. */
export interface Tenancy {
  organization: string;
  workspace?: string;
  /** The organization's limits per class. */
  org: RateLimits;
  /** The workspace's own limits per class, when the key is in a workspace with limits. */
  ws?: RateLimits;
}

export class Organizations {
  private readonly byId = new Map<string, Tenancy>();
  private readonly byKey = new Map<string, Tenancy>();
  private readonly defaultTenancy: Tenancy = { organization: DEFAULT_ORGANIZATION_ID, org: new RateLimits() };

  constructor() {
    this.byId.set(DEFAULT_ORGANIZATION_ID, this.defaultTenancy);
  }

  /**
   * Applies new settings. An organization or workspace that stays keeps its buckets where their
   * limits did not change (RateLimits.configure starts over only what changed).
   */
  configure(top: TopLevelLimits, now = Date.now()): void {
    const { burstSeconds, otpmRule } = top;
    const topLimits = { rpm: top.rpm, itpm: top.itpm, otpm: top.otpm, classLimits: top.classLimits, tier: top.tier };
    this.defaultTenancy.org.configure({ ...topLimits, burstSeconds, otpmRule }, now);
    const previous = new Map(this.byId);
    this.byId.clear();
    this.byKey.clear();
    this.byId.set(DEFAULT_ORGANIZATION_ID, this.defaultTenancy);
    for (const spec of top.organizations ?? []) {
      const org = previous.get(spec.id)?.org ?? new RateLimits();
      org.configure(
        {
          rpm: spec.rpm ?? topLimits.rpm,
          itpm: spec.itpm ?? topLimits.itpm,
          otpm: spec.otpm ?? topLimits.otpm,
          classLimits: { ...topLimits.classLimits, ...spec.classLimits },
          tier: spec.tier ?? topLimits.tier,
          burstSeconds,
          otpmRule,
        },
        now,
      );
      const tenancy: Tenancy = { organization: spec.id, org };
      this.byId.set(spec.id, tenancy);
      for (const key of spec.keys) this.byKey.set(key, tenancy);
      for (const w of spec.workspaces ?? []) {
        const id = `${spec.id}/${w.id}`;
        const ws = previous.get(id)?.ws ?? new RateLimits();
        // A workspace's own limits only: where it sets none, the organization's bucket is the limit.
        ws.configure({ rpm: w.rpm, itpm: w.itpm, otpm: w.otpm, classLimits: w.classLimits, burstSeconds, otpmRule, owner: 'workspace' }, now);
        const wsTenancy: Tenancy = { organization: spec.id, workspace: w.id, org, ws };
        this.byId.set(id, wsTenancy);
        for (const key of w.keys) this.byKey.set(key, wsTenancy);
      }
    }
  }

  /** The tenancy of `key` (the default organization for a key no organization lists). */
  of(key: string | undefined): Tenancy {
    return (key !== undefined ? this.byKey.get(key) : undefined) ?? this.defaultTenancy;
  }

  /** An organization by id (the default one for an unknown id). */
  organization(id: string | undefined): Tenancy {
    return (id !== undefined ? this.byId.get(id) : undefined) ?? this.defaultTenancy;
  }
}

/** The budgets a request of `className` spends: the workspace's (if any) first, then the organization's. */
export function budgetsOf(t: Tenancy, className: string, now: number): ClassBudget[] {
  const org = t.org.budget(className, now);
  return t.ws ? [t.ws.budget(className, now), org] : [org];
}

/**
 * What the rate-limit headers show for several budgets: per dimension, the bucket with the lowest
 * limit (the tighter of a workspace's and its organization's).
 */
export function tightest(budgets: readonly ClassBudget[]): Pick<ClassBudget, 'requests' | 'input' | 'output'> {
  if (budgets.length === 1) return budgets[0]!;
  const pick = <K extends 'requests' | 'input' | 'output'>(k: K): ClassBudget[K] => {
    let best: ClassBudget[K] = undefined as ClassBudget[K];
    for (const b of budgets) {
      const bucket = b[k];
      if (bucket && (!best || bucket.limitPerMinute < best.limitPerMinute)) best = bucket;
    }
    return best;
  };
  return { requests: pick('requests'), input: pick('input'), output: pick('output') };
}

/** Headers that name whose limits an answer spent. */
export function tenancyHeaders(t: Tenancy): Record<string, string> {
  return t.workspace ? { 'anthropic-organization-id': t.organization, 'anthropic-workspace-id': t.workspace } : { 'anthropic-organization-id': t.organization };
}
