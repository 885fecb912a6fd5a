#!/bin/sh
# Copies the agent-bom runtime (node, dist, production node_modules) into DIR, for a workload that starts its
# stdio MCP servers through `DIR/bin/agent-bom proxy … -- <server>` (the chart's proxyExample init container).
# The workload image needs /bin/sh and glibc.
set -eu
dir=${1:?usage: install-agent-bom DIR [APP_DIR]}
app=${2:-/app}
mkdir -p "$dir/bin"
cp "$(command -v node)" "$dir/node"
cp -R "$app" "$dir/app"
cat > "$dir/bin/agent-bom" <<WRAPPER
#!/bin/sh
exec "$dir/node" "$dir/app/bin/agent-bom.js" "\$@"
WRAPPER
chmod 0555 "$dir/bin/agent-bom"
echo "agent-bom installed in $dir"
