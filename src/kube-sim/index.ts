export { KubeApiDouble, parseRoute, type RecordedRequest, type KubeApiDoubleOptions } from './server.ts';
export { kubeconfigYaml, writeKubeconfig, kubeConfigFor, type KubeconfigOptions } from './kubeconfig.ts';
export { selfSignedCertificate } from './tls.ts';
export { seedDeployment, seedNode, seedConfigMap, setImage } from './fixtures.ts';
export { podTemplateHash, REVISION, POD_TEMPLATE_HASH } from './controller.ts';
export type { K8sObject } from './store.ts';
