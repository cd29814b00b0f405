module bun-k8s.local/cluster/pause

go 1.24.0
