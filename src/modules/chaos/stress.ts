// CPU and memory stress for HPA and OOMKill demos.
import { embeddedModuleUrl } from "../../embedded";

const MIB = 1024 * 1024;

export class CpuStress {
  #running = 0;
  constructor(readonly maxWorkers: number) {}

  get running() {
    return this.#running;
  }

  /** Runs `workers` busy workers for `seconds`; resolves when they are done. */
  async run(seconds: number, workers: number): Promise<void> {
    this.#running += workers;
    try {
      await Promise.all(Array.from({ length: workers }, () => burn(seconds)));
    } finally {
      this.#running -= workers;
    }
  }
}

function burn(seconds: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(embeddedModuleUrl("chaos/stress-worker.ts"));
    const done = () => {
      worker.terminate();
      resolve();
    };
    worker.onmessage = done;
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(`stress worker failed: ${event.message}`));
    };
    worker.postMessage({ seconds });
  });
}

/** Holds allocated memory until released; touches every page so RSS really grows. */
export class MemoryBallast {
  #chunks: Uint8Array[] = [];

  get heldMb() {
    return this.#chunks.length;
  }

  allocate(mb: number) {
    for (let i = 0; i < mb; i++) this.#chunks.push(new Uint8Array(MIB).fill(1));
  }

  release(): number {
    const released = this.#chunks.length;
    this.#chunks = [];
    Bun.gc(true);
    return released;
  }
}
