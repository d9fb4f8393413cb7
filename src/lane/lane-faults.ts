/**
 * Faults injected on a lane (troupe/chaos): the main thread writes the
 * settings into the lane's header, the lane's producer reads them as it
 * sends (LaneWriter#faultMask on every send, the rest only while a fault is
 * on) and applies them (host/link-faults.ts).
 */
import {
  LANE_CORRUPT_PPM,
  LANE_DELAY_JITTER_US,
  LANE_DELAY_US,
  LANE_DROP_PPM,
  LANE_DUPLICATE_PPM,
  LANE_FAULTS,
  LANE_FAULT_SEED,
  LANE_HEADER_BYTES,
} from './layout.js';

/** Fault injection on one lane (set by the main thread for troupe/chaos). */
export interface LaneFaultConfig {
  mask: number;
  dropPpm: number;
  duplicatePpm: number;
  delayUs: number;
  delayJitterUs: number;
  corruptPpm: number;
  seed: number;
}

/** The settings in a lane header (`header` is its Int32 view); LaneWriter#faultConfig reads them on a faulted send. */
export function readLaneFaults(header: Int32Array): LaneFaultConfig {
  return {
    mask: Atomics.load(header, LANE_FAULTS),
    dropPpm: header[LANE_DROP_PPM],
    duplicatePpm: header[LANE_DUPLICATE_PPM],
    delayUs: header[LANE_DELAY_US],
    delayJitterUs: header[LANE_DELAY_JITTER_US],
    corruptPpm: header[LANE_CORRUPT_PPM],
    seed: header[LANE_FAULT_SEED],
  };
}

/** Sets (or, with mask 0, clears) the faults of a lane; parameters before the mask, so a producer never sees half a setting. */
export function setLaneFaults(lane: SharedArrayBuffer, config: LaneFaultConfig): void {
  const header = new Int32Array(lane, 0, LANE_HEADER_BYTES / 4);
  header[LANE_DROP_PPM] = config.dropPpm;
  header[LANE_DUPLICATE_PPM] = config.duplicatePpm;
  header[LANE_DELAY_US] = config.delayUs;
  header[LANE_DELAY_JITTER_US] = config.delayJitterUs;
  header[LANE_CORRUPT_PPM] = config.corruptPpm;
  header[LANE_FAULT_SEED] = config.seed;
  Atomics.store(header, LANE_FAULTS, config.mask);
}

export function laneFaults(lane: SharedArrayBuffer): LaneFaultConfig {
  return readLaneFaults(new Int32Array(lane, 0, LANE_HEADER_BYTES / 4));
}
