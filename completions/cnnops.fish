# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cnnops_global_optspecs
    string join \n h/help V/version
end

function __fish_cnnops_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cnnops_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cnnops_using_subcommand
    set -l cmd (__fish_cnnops_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cnnops -n "__fish_cnnops_needs_command" -s h -l help -d 'Print help'
complete -c cnnops -n "__fish_cnnops_needs_command" -s V -l version -d 'Print version'
complete -c cnnops -n "__fish_cnnops_needs_command" -f -a "relu" -d 'Apply ReLU (or leaky ReLU, or clipped ReLU such as ReLU6) to every value'
complete -c cnnops -n "__fish_cnnops_needs_command" -f -a "pool" -d 'Pool each activation map with a sliding window (max, avg, lp or min)'
complete -c cnnops -n "__fish_cnnops_needs_command" -f -a "info" -d 'Print shape, dtype, order and sizes of .npy / .npz files as JSON lines'
complete -c cnnops -n "__fish_cnnops_needs_command" -f -a "man" -d 'Print the man page of cnnops or of one subcommand (roff)'
complete -c cnnops -n "__fish_cnnops_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c cnnops -n "__fish_cnnops_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -l alpha -d 'Leaky ReLU: negative x maps to ALPHA·x (floating-point input only)' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -l max -d 'Clipped ReLU: values above M map to M (ReLU6 is --max 6)' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -l layout -d 'Axis letters, outermost first: N batch, C channels, D H W spatial (NHWC, NCHW, HWC, CHW, NCW, NCDHW, ...). Default by rank: W, HW, HWC, NHWC, NDHWC' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -l out-dir -d 'Write outputs into DIR (same relative paths); every path is an input' -r -F
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -s j -l jobs -d 'Worker threads [default: all cores]' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -l shard -d 'Keep a deterministic 1/N of the inputs: part K of N (0 <= K < N)' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -l json -d 'Print one JSON object per array: input and output shape, dtype, parameters (on stderr when OUTPUT is -)'
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -l dry-run -d 'Read only the header, write nothing, print the JSON object'
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -s q -l quiet -d 'No progress bar and no summary'
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -s h -l help -d 'Print help'
complete -c cnnops -n "__fish_cnnops_using_subcommand relu" -s V -l version -d 'Print version'
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -s k -l size -d 'Window size: one number for every spatial axis, or one per axis joined by x in layout order (3, 3x2)' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -s s -l stride -d 'Stride, as --size [default: the window size]' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l pad -d 'Symmetric padding (1, 1x0), or same (extra cell at the end, as TensorFlow SAME / ONNX SAME_UPPER), same-lower, valid' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l pad-begin -d 'Padding before each spatial axis (asymmetric; needs --pad-end)' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l pad-end -d 'Padding after each spatial axis (asymmetric; needs --pad-begin)' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -s d -l dilation -d 'Distance between window taps, as --size [default: 1]' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -s m -l mode -d 'Reduction applied to each window' -r -f -a "max\t'Maximum of the window (NaN wins)'
avg\t'Mean of the window (float output for integer input)'
lp\t'Lp norm (Σ|x|^p)^(1/p) of the window'
min\t'Minimum of the window (NaN wins)'"
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l p -d 'Norm order for --mode lp' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l indices -d 'Also write the int64 argmax positions to IDX.npy (max mode)' -r -F
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l indices-scope -d 'What the --indices positions count' -r -f -a "map\t'Flat position within each spatial map (PyTorch return_indices)'
tensor\t'Flat position within the whole input tensor (ONNX MaxPool)'"
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l layout -d 'Axis letters, outermost first: N batch, C channels, D H W spatial (NHWC, NCHW, HWC, CHW, NCW, NCDHW, ...). Default by rank: W, HW, HWC, NHWC, NDHWC' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l out-dir -d 'Write outputs into DIR (same relative paths); every path is an input' -r -F
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -s j -l jobs -d 'Worker threads [default: all cores]' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l shard -d 'Keep a deterministic 1/N of the inputs: part K of N (0 <= K < N)' -r
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l ceil -d 'Round the output size up (a last partial window that starts inside the input or the begin padding is kept)'
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l count-include-pad -d 'With --mode avg, divide by every window cell inside the padded input, padding included'
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l global -d 'Pool each whole map to 1 (spatial axes kept with length 1)'
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l json -d 'Print one JSON object per array: input and output shape, dtype, parameters (on stderr when OUTPUT is -)'
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -l dry-run -d 'Read only the header, write nothing, print the JSON object'
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -s q -l quiet -d 'No progress bar and no summary'
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cnnops -n "__fish_cnnops_using_subcommand pool" -s V -l version -d 'Print version'
complete -c cnnops -n "__fish_cnnops_using_subcommand info" -s h -l help -d 'Print help'
complete -c cnnops -n "__fish_cnnops_using_subcommand info" -s V -l version -d 'Print version'
complete -c cnnops -n "__fish_cnnops_using_subcommand man" -s h -l help -d 'Print help'
complete -c cnnops -n "__fish_cnnops_using_subcommand man" -s V -l version -d 'Print version'
complete -c cnnops -n "__fish_cnnops_using_subcommand completions" -s h -l help -d 'Print help'
complete -c cnnops -n "__fish_cnnops_using_subcommand completions" -s V -l version -d 'Print version'
complete -c cnnops -n "__fish_cnnops_using_subcommand help; and not __fish_seen_subcommand_from relu pool info man completions help" -f -a "relu" -d 'Apply ReLU (or leaky ReLU, or clipped ReLU such as ReLU6) to every value'
complete -c cnnops -n "__fish_cnnops_using_subcommand help; and not __fish_seen_subcommand_from relu pool info man completions help" -f -a "pool" -d 'Pool each activation map with a sliding window (max, avg, lp or min)'
complete -c cnnops -n "__fish_cnnops_using_subcommand help; and not __fish_seen_subcommand_from relu pool info man completions help" -f -a "info" -d 'Print shape, dtype, order and sizes of .npy / .npz files as JSON lines'
complete -c cnnops -n "__fish_cnnops_using_subcommand help; and not __fish_seen_subcommand_from relu pool info man completions help" -f -a "man" -d 'Print the man page of cnnops or of one subcommand (roff)'
complete -c cnnops -n "__fish_cnnops_using_subcommand help; and not __fish_seen_subcommand_from relu pool info man completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c cnnops -n "__fish_cnnops_using_subcommand help; and not __fish_seen_subcommand_from relu pool info man completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
