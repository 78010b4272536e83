# bash completion for qomfs and its drop-in names. The binary answers (the hidden `qomfs __complete`): subcommands
# and options from its help texts, QOM paths and property names live from $QMP_SOCKET or -s, silent on error.
# Nothing to offer means file names (-o default): sockets, mountpoints, files.
_qomfs() {
    local IFS=$'\n'
    COMPREPLY=($(qomfs __complete "$COMP_CWORD" "${COMP_WORDS[@]}" 2>/dev/null))
    # A directory (PATH/) or an object awaiting its property (PATH.) is not a finished word: no space after it.
    [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]] && compopt -o nospace 2>/dev/null
    return 0
}
complete -o default -F _qomfs qomfs qom qom-get qom-set qom-list qom-tree qom-fuse qmp-shell qemu-ga-client
