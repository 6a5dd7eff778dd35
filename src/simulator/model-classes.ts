/**
 * Which models share one set of limits, by the API's rule (platform.claude.com/docs/en/api/rate-limits):
 * every Opus 4.x model draws from one pool and every Sonnet 4.x from another; any other model
 * (Haiku 4.5, Opus 5, Sonnet 5, ...) is a class of its own. A dated snapshot (`-20251001`) or a
 * `-latest` alias is the model it names. The simulator keeps its own copy of this rule: it stands
 * in for the API and must not lean on the client's idea of it.
 */

const POOLED_FAMILIES = /^claude-(opus|sonnet)-4(?:-\d{1,2})?$/;

/** The model without a snapshot date or `-latest`: `claude-haiku-4-5-20251001` → `claude-haiku-4-5`. */
export function baseModel(model: string): string {
  return model.replace(/-(\d{8}|latest)$/, '');
}

/** The class whose limits `model` draws from: `claude-opus-4-1-20250805` → `claude-opus-4`. */
export function modelClass(model: string): string {
  const base = baseModel(model);
  const pooled = POOLED_FAMILIES.exec(base);
  return pooled ? `claude-${pooled[1]}-4` : base;
}

/**
 * Whether cache reads count against the class's input-token limit. They do not for current
 * models; Claude Haiku 3.5 is the exception the rate-limits page names.
 */
export function cacheReadsCountAsInput(modelClassName: string): boolean {
  return modelClassName === 'claude-3-5-haiku';
}
