/** Names for a message: the first `shown`, then "and N more" — a thousand node names help nobody. */
export function shortList(names: readonly string[], shown = 5): string {
  return names.length > shown ? `${names.slice(0, shown).join(', ')} and ${names.length - shown} more` : names.join(', ');
}
