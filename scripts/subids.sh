# Sourced by the engine scripts: rootless_user NAME makes the user a
# rootless engine runs as; give_subids USER gives USER a subordinate uid and gid range
# of 65536 ids in /etc/subuid and /etc/subgid when it has none, starting
# above every range either file already holds (never below 100000), so no
# other user's range overlaps it: whoever holds a range can become those
# host uids, and a remapping engine's containers' root is one of them.
give_subids() {
    local user="$1" start
    touch /etc/subuid /etc/subgid
    if grep -q "^$user:" /etc/subuid && grep -q "^$user:" /etc/subgid; then
        return 0
    fi
    start=$(awk -F: 'BEGIN { end = 100000 }
        NF >= 3 && $2 + $3 > end { end = $2 + $3 }
        END { print end }' /etc/subuid /etc/subgid)
    for file in /etc/subuid /etc/subgid; do
        grep -q "^$user:" "$file" || echo "$user:$start:65536" >>"$file"
    done
}

# rootless_user NAME: makes user NAME when missing (a home, no password),
# gives it subordinate ids, and its runtime directory /run/user/UID (0700,
# its own); sets rootless_uid, rootless_home and rootless_runtime_dir.
rootless_user() {
    local user="$1"
    id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
    give_subids "$user"
    rootless_uid=$(id -u "$user")
    rootless_home=$(getent passwd "$user" | cut -d: -f6)
    rootless_runtime_dir="/run/user/$rootless_uid"
    install -d -m 0700 -o "$user" -g "$(id -g "$user")" "$rootless_runtime_dir"
}
