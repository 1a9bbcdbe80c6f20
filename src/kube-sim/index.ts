export { KubeApiDouble, parseRoute, type RecordedRequest, type KubeApiDoubleOptions } from './server.ts';
export { kubeconfigYaml, writeKubeconfig, kubeConfigFor, type KubeconfigOptions } from './kubeconfig.ts';
export { selfSignedCertificate } from './tls.ts';
export { seedDaemonSetPod, seedDeployment, seedNode, seedConfigMap, setImage } from './fixtures.ts';
export { podTemplateHash, REVISION, POD_TEMPLATE_HASH } from './controller.ts';
export type { K8sObject } from './store.ts';
export {
  ProcessKubelet,
  type ContainerCommand,
  type ContainerSpec,
  type KubeletEvent,
  type KubeletOptions,
  type PodEndpoint,
} from './kubelet.ts';
export { SimCluster, freeLoopbackPort, type SimClusterOptions } from './cluster.ts';
export { kubeStateMetrics } from './state-metrics.ts';
export type { PodLifecycle } from './controller.ts';
