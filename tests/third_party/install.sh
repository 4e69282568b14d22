# Installs the third-party clients into a folder; sourced by run.sh and bulk.sh.
#
#   install_clients DIR   creates DIR/venv (fast_bitrix24, b24pysdk from PyPI) and DIR/node
#                         (@bitrix24/b24jssdk from npm) and prints the versions.
#
# The packages come from the ordinary clients (pip, npm); nothing is pinned, so a run measures
# the versions current on that day (printed, and recorded by bulk.sh).

install_clients() {
    local dir="$1"
    python3 -m venv "$dir/venv" || { echo "FAIL: venv"; return 1; }
    "$dir/venv/bin/pip" install -q --disable-pip-version-check fast_bitrix24 b24pysdk \
        || { echo "FAIL: pip install"; return 1; }
    mkdir -p "$dir/node"
    (cd "$dir/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @bitrix24/b24jssdk) \
        || { echo "FAIL: npm install"; return 1; }
    client_versions "$dir"
}

# client_versions DIR: one "name version" line per client.
client_versions() {
    local dir="$1"
    "$dir/venv/bin/pip" list 2>/dev/null | grep -iE '^(fast.bitrix24|b24pysdk) '
    (cd "$dir/node" && node -e "console.log('@bitrix24/b24jssdk', require('./node_modules/@bitrix24/b24jssdk/package.json').version)")
}
