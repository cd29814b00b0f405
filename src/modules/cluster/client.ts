// The part of @kubernetes/client-node the cluster view uses. An entry point of its own in the
// executable (src/embedded.ts), loaded only when the view first starts.
export { AppsV1Api, AutoscalingV2Api, CoreV1Api, DiscoveryV1Api, KubeConfig, makeInformer } from "@kubernetes/client-node";
