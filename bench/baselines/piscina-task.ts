/** piscina's task for the round-trip baseline: hands its input back. */
export default function echo(value: unknown): unknown {
  return value;
}
