/**
 * Whether a prompt is short enough to prefill on the decode instance itself,
 * skipping the prefill queue and the KV transfer (llm-d's P/D decider idea).
 * A very short prompt costs the decode batch one short iteration, less than
 * the hand-off would add to its TTFT. Off when `maxPromptTokens` is 0.
 */
export interface LocalPrefillParams {
  /** Longest prompt, in tokens, prefilled locally on a decode instance; 0 disables. Default 0. */
  maxPromptTokens: number;
}

export function prefillLocally(params: LocalPrefillParams, promptTokens: number): boolean {
  return promptTokens <= params.maxPromptTokens;
}
