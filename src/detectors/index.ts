/**
 * @module
 * The detectors layer's public surface: build detectors from config specs, feed them as a
 * {@link DetectorSet}, or scan a finished log offline.
 */
export { buildDetector, buildDetectors, DEFAULT_COOLDOWN_SECONDS } from "./build.ts";
export { DEFAULT_DETECTOR_SPECS } from "./defaults.ts";
export { ExitCodeDetector, exitMessage } from "./exit-code.ts";
export { PatternDetector } from "./pattern.ts";
export { type ScanHit, Scanner, scanText } from "./scanner.ts";
export { DetectorSet, type DetectorSetOptions } from "./set.ts";
export { StallDetector } from "./stall.ts";
export { TracebackDetector } from "./traceback/detector.ts";
export type { Detector } from "./types.ts";
