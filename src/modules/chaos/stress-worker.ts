// Burns one CPU core until the deadline, off the main thread, so probes keep answering.
const worker = globalThis as unknown as Worker;

worker.onmessage = (event: MessageEvent<{ seconds: number }>) => {
  const deadline = performance.now() + event.data.seconds * 1000;
  let x = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < 10_000; i++) x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
  }
  worker.postMessage({ done: true, x });
};
