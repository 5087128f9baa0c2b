#!/usr/bin/env node
// A stand-in for a GPU training run: it trains for a few steps and, like a real model that does
// not fit, runs out of (simulated) GPU memory when BATCH_SIZE is too large for the "card".
// autosentry's rule `oom_halve_batch` restarts it with BATCH_SIZE halved, and then it completes.
const batchSize = Number.parseInt(process.env.BATCH_SIZE ?? "64", 10);
const steps = Number.parseInt(process.env.STEPS ?? "8", 10);
const gpuMemoryGiB = 16;

class OutOfMemoryError extends Error {
  constructor(message) {
    super(message);
    this.name = "OutOfMemoryError";
  }
}

class Trainer {
  constructor(batch) {
    this.batch = batch;
    this.loss = 2.5;
  }

  allocateActivations(step) {
    const needGiB = this.batch * 0.22 + step * 0.4;
    if (needGiB > gpuMemoryGiB) {
      throw new OutOfMemoryError(
        `CUDA out of memory. Tried to allocate ${needGiB.toFixed(2)} GiB (GPU 0; ${gpuMemoryGiB} GiB total capacity; batch size ${this.batch})`,
      );
    }
  }

  step(step) {
    this.allocateActivations(step);
    this.loss *= 0.8;
    console.log(`step ${step} loss ${this.loss.toFixed(4)} batch_size ${this.batch}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
console.log(`training with BATCH_SIZE=${batchSize} for ${steps} steps`);
const trainer = new Trainer(batchSize);
for (let s = 1; s <= steps; s++) {
  trainer.step(s);
  await sleep(150);
}
console.log("training complete: checkpoint written to ./checkpoint.bin");
