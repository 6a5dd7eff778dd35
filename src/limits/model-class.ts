/**
 * Which models share one set of limits. The API applies RPM, ITPM and OTPM per model class: every
 * Opus 4.x model draws from one pool, every Sonnet 4.x from another; Haiku 4.5, Opus 5, Sonnet 5
 * and the models after them each have their own (DESIGN.md, "Rate limits as the API enforces them").
 * A dated snapshot (`-20251001`) or a `-latest` alias is the model it names.
 */

/** Models whose every minor version shares the class named by family and major version. */
const POOLED_FAMILIES = /^claude-(opus|sonnet)-4(?:-\d{1,2})?$/;

/** The model without a snapshot date or `-latest` suffix: `claude-haiku-4-5-20251001` → `claude-haiku-4-5`. */
export function baseModel(model: string): string {
  return model.replace(/-(\d{8}|latest)$/, '');
}

/** The model class whose limits `model` draws from, e.g. `claude-opus-4-7` → `claude-opus-4`. */
/**
 * The Message Batches endpoints' own budget, beside the model classes: the API limits requests to
 * them per minute for every model together, apart from the Messages limits (a batch create is not
 * a Messages request). Kept as one more class of the account, so stores and keying apply as they are.
 */
export const BATCHES_CLASS = 'message-batches';

export function modelClass(model: string): string {
  const base = baseModel(model.trim());
  const pooled = POOLED_FAMILIES.exec(base);
  if (pooled) return `claude-${pooled[1]}-4`;
  return base;
}

/**
 * Whether cache reads count against this class's input-token limit. They do not for current
 * models; Claude Haiku 3.5 is the exception the rate-limits page names.
 */
export function cacheReadsCountAsInput(modelClassName: string): boolean {
  return modelClassName === 'claude-3-5-haiku';
}
