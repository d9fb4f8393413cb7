/**
 * The brand every ActorRef carries, in its own module so that both the
 * validator and the codec can import it without importing each other.
 * `Symbol.for`: another copy of the library must recognise the refs of this one.
 */
export const kRefMarker = Symbol.for('troupe.ref');
