// The Kubernetes API double lives in product code (src/kube-sim/) because `rebound demo` runs on it too;
// tests keep importing it from here.
export * from '../../../src/kube-sim/index.ts';
