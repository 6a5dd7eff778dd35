/**
 * One organization's (or workspace's) limits per model class (see model-classes.ts): each class has its own requests,
 * input-token and output-token buckets. A class's limits are, most specific first:
 * `classLimits[class]`, then `rpm`/`itpm`/`otpm`, then the `tier` preset. Classes are created the
 * first time a request names one of their models.
 */
import { ClassBudget, type OtpmRule } from './class-budget.js';
import { TIERS, type ClassLimitSet, type Tier } from './tiers.js';

export interface LimitSettings {
  rpm?: number;
  itpm?: number;
  otpm?: number;
  classLimits?: Readonly<Record<string, ClassLimitSet>>;
  tier?: Tier;
  burstSeconds: number;
  otpmRule: OtpmRule;
  /** Whose limits these are, for the 429's message. Default `organization`. */
  owner?: 'organization' | 'workspace';
}

export class RateLimits {
  private readonly classes = new Map<string, ClassBudget>();
  private settings: LimitSettings = { burstSeconds: 1, otpmRule: 'as-produced' };

  /** Applies new settings; a class whose limits, burst or rule changed starts over, full. */
  configure(next: LimitSettings, now = Date.now()): void {
    this.settings = { ...next };
    for (const [name, budget] of this.classes) {
      const limits = this.limitsOf(name);
      if (!budget.matches(limits, next.burstSeconds, next.otpmRule)) this.classes.set(name, this.newBudget(name, limits, now));
    }
  }

  /** The limits that apply to a class under the current settings. */
  limitsOf(className: string): ClassLimitSet {
    const { rpm, itpm, otpm, classLimits, tier } = this.settings;
    const preset = tier ? TIERS[tier] : undefined;
    const own = classLimits?.[className];
    return {
      rpm: own?.rpm ?? rpm ?? preset?.rpm,
      itpm: own?.itpm ?? itpm ?? preset?.itpm,
      otpm: own?.otpm ?? otpm ?? preset?.otpm,
    };
  }

  /** The class's buckets (created, full, on first use). */
  budget(className: string, now = Date.now()): ClassBudget {
    let budget = this.classes.get(className);
    if (!budget) {
      budget = this.newBudget(className, this.limitsOf(className), now);
      this.classes.set(className, budget);
    }
    return budget;
  }

  private newBudget(name: string, limits: ClassLimitSet, now: number): ClassBudget {
    return new ClassBudget(name, limits, this.settings.burstSeconds, this.settings.otpmRule, now, this.settings.owner);
  }
}
