// Probe and shutdown state, kept apart from HTTP so it can be driven by signals and tests alike.
//
//   starting --markStarted--> serving --beginShutdown--> draining --> stopped
//
// Readiness is served only while `serving` and not disabled by hand; liveness only fails
// when disabled by hand (a kubelet restart demo), never because of a dependency.

export type Phase = "starting" | "serving" | "draining" | "stopped";

export class Lifecycle {
  phase: Phase = "starting";
  readinessOverride = true;
  livenessOverride = true;
  readonly startedAt = new Date();

  get ready(): boolean {
    return this.phase === "serving" && this.readinessOverride;
  }
  get live(): boolean {
    return this.livenessOverride && this.phase !== "stopped";
  }
  markStarted() {
    if (this.phase === "starting") this.#set("serving");
  }
  beginShutdown(): boolean {
    if (this.phase === "draining" || this.phase === "stopped") return false;
    this.#set("draining");
    return true;
  }
  markStopped() {
    this.#set("stopped");
  }
  setReadiness(enabled: boolean) {
    this.readinessOverride = enabled;
  }
  setLiveness(enabled: boolean) {
    this.livenessOverride = enabled;
  }
  #set(phase: Phase) {
    this.phase = phase;
  }
}
