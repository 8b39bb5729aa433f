/** Bad usage of the fuzzer (an option, a target that cannot be fuzzed): the CLI says it and exits 2. */
export class FuzzUsageError extends Error {
  override name = 'FuzzUsageError';
}
