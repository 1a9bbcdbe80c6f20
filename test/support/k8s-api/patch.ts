// Moved to src/kube-sim/patch.ts (see index.ts); kept so tests that test the patch algorithms still find them.
export * from '../../../src/kube-sim/patch.ts';
