
use builtin;
use str;

set edit:completion:arg-completer[cnnops] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'cnnops'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'cnnops'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand relu 'Apply ReLU (or leaky ReLU, or clipped ReLU such as ReLU6) to every value'
            cand pool 'Pool each activation map with a sliding window (max, avg, lp or min)'
            cand info 'Print shape, dtype, order and sizes of .npy / .npz files as JSON lines'
            cand man 'Print the man page of cnnops or of one subcommand (roff)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cnnops;relu'= {
            cand --alpha 'Leaky ReLU: negative x maps to ALPHA·x (floating-point input only)'
            cand --max 'Clipped ReLU: values above M map to M (ReLU6 is --max 6)'
            cand --layout 'Axis letters, outermost first: N batch, C channels, D H W spatial (NHWC, NCHW, HWC, CHW, NCW, NCDHW, ...). Default by rank: W, HW, HWC, NHWC, NDHWC'
            cand --out-dir 'Write outputs into DIR (same relative paths); every path is an input'
            cand -j 'Worker threads [default: all cores]'
            cand --jobs 'Worker threads [default: all cores]'
            cand --shard 'Keep a deterministic 1/N of the inputs: part K of N (0 <= K < N)'
            cand --json 'Print one JSON object per array: input and output shape, dtype, parameters (on stderr when OUTPUT is -)'
            cand --dry-run 'Read only the header, write nothing, print the JSON object'
            cand -q 'No progress bar and no summary'
            cand --quiet 'No progress bar and no summary'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cnnops;pool'= {
            cand -k 'Window size: one number for every spatial axis, or one per axis joined by x in layout order (3, 3x2)'
            cand --size 'Window size: one number for every spatial axis, or one per axis joined by x in layout order (3, 3x2)'
            cand -s 'Stride, as --size [default: the window size]'
            cand --stride 'Stride, as --size [default: the window size]'
            cand --pad 'Symmetric padding (1, 1x0), or same (extra cell at the end, as TensorFlow SAME / ONNX SAME_UPPER), same-lower, valid'
            cand --pad-begin 'Padding before each spatial axis (asymmetric; needs --pad-end)'
            cand --pad-end 'Padding after each spatial axis (asymmetric; needs --pad-begin)'
            cand -d 'Distance between window taps, as --size [default: 1]'
            cand --dilation 'Distance between window taps, as --size [default: 1]'
            cand -m 'Reduction applied to each window'
            cand --mode 'Reduction applied to each window'
            cand --p 'Norm order for --mode lp'
            cand --indices 'Also write the int64 argmax positions to IDX.npy (max mode)'
            cand --indices-scope 'What the --indices positions count'
            cand --layout 'Axis letters, outermost first: N batch, C channels, D H W spatial (NHWC, NCHW, HWC, CHW, NCW, NCDHW, ...). Default by rank: W, HW, HWC, NHWC, NDHWC'
            cand --out-dir 'Write outputs into DIR (same relative paths); every path is an input'
            cand -j 'Worker threads [default: all cores]'
            cand --jobs 'Worker threads [default: all cores]'
            cand --shard 'Keep a deterministic 1/N of the inputs: part K of N (0 <= K < N)'
            cand --ceil 'Round the output size up (a last partial window that starts inside the input or the begin padding is kept)'
            cand --count-include-pad 'With --mode avg, divide by every window cell inside the padded input, padding included'
            cand --global 'Pool each whole map to 1 (spatial axes kept with length 1)'
            cand --json 'Print one JSON object per array: input and output shape, dtype, parameters (on stderr when OUTPUT is -)'
            cand --dry-run 'Read only the header, write nothing, print the JSON object'
            cand -q 'No progress bar and no summary'
            cand --quiet 'No progress bar and no summary'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cnnops;info'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cnnops;man'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cnnops;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cnnops;help'= {
            cand relu 'Apply ReLU (or leaky ReLU, or clipped ReLU such as ReLU6) to every value'
            cand pool 'Pool each activation map with a sliding window (max, avg, lp or min)'
            cand info 'Print shape, dtype, order and sizes of .npy / .npz files as JSON lines'
            cand man 'Print the man page of cnnops or of one subcommand (roff)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cnnops;help;relu'= {
        }
        &'cnnops;help;pool'= {
        }
        &'cnnops;help;info'= {
        }
        &'cnnops;help;man'= {
        }
        &'cnnops;help;completions'= {
        }
        &'cnnops;help;help'= {
        }
    ]
    $completions[$command]
}
