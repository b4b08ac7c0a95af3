
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'cnnops' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'cnnops'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'cnnops' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('relu', 'relu', [CompletionResultType]::ParameterValue, 'Apply ReLU (or leaky ReLU, or clipped ReLU such as ReLU6) to every value')
            [CompletionResult]::new('pool', 'pool', [CompletionResultType]::ParameterValue, 'Pool each activation map with a sliding window (max, avg, lp or min)')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Print shape, dtype, order and sizes of .npy / .npz files as JSON lines')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page of cnnops or of one subcommand (roff)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cnnops;relu' {
            [CompletionResult]::new('--alpha', '--alpha', [CompletionResultType]::ParameterName, 'Leaky ReLU: negative x maps to ALPHA·x (floating-point input only)')
            [CompletionResult]::new('--max', '--max', [CompletionResultType]::ParameterName, 'Clipped ReLU: values above M map to M (ReLU6 is --max 6)')
            [CompletionResult]::new('--layout', '--layout', [CompletionResultType]::ParameterName, 'Axis letters, outermost first: N batch, C channels, D H W spatial (NHWC, NCHW, HWC, CHW, NCW, NCDHW, ...). Default by rank: W, HW, HWC, NHWC, NDHWC')
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Write outputs into DIR (same relative paths); every path is an input')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads [default: all cores]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads [default: all cores]')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Keep a deterministic 1/N of the inputs: part K of N (0 <= K < N)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object per array: input and output shape, dtype, parameters (on stderr when OUTPUT is -)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Read only the header, write nothing, print the JSON object')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar and no summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar and no summary')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cnnops;pool' {
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Window size: one number for every spatial axis, or one per axis joined by x in layout order (3, 3x2)')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Window size: one number for every spatial axis, or one per axis joined by x in layout order (3, 3x2)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Stride, as --size [default: the window size]')
            [CompletionResult]::new('--stride', '--stride', [CompletionResultType]::ParameterName, 'Stride, as --size [default: the window size]')
            [CompletionResult]::new('--pad', '--pad', [CompletionResultType]::ParameterName, 'Symmetric padding (1, 1x0), or same (extra cell at the end, as TensorFlow SAME / ONNX SAME_UPPER), same-lower, valid')
            [CompletionResult]::new('--pad-begin', '--pad-begin', [CompletionResultType]::ParameterName, 'Padding before each spatial axis (asymmetric; needs --pad-end)')
            [CompletionResult]::new('--pad-end', '--pad-end', [CompletionResultType]::ParameterName, 'Padding after each spatial axis (asymmetric; needs --pad-begin)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Distance between window taps, as --size [default: 1]')
            [CompletionResult]::new('--dilation', '--dilation', [CompletionResultType]::ParameterName, 'Distance between window taps, as --size [default: 1]')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Reduction applied to each window')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'Reduction applied to each window')
            [CompletionResult]::new('--p', '--p', [CompletionResultType]::ParameterName, 'Norm order for --mode lp')
            [CompletionResult]::new('--indices', '--indices', [CompletionResultType]::ParameterName, 'Also write the int64 argmax positions to IDX.npy (max mode)')
            [CompletionResult]::new('--indices-scope', '--indices-scope', [CompletionResultType]::ParameterName, 'What the --indices positions count')
            [CompletionResult]::new('--layout', '--layout', [CompletionResultType]::ParameterName, 'Axis letters, outermost first: N batch, C channels, D H W spatial (NHWC, NCHW, HWC, CHW, NCW, NCDHW, ...). Default by rank: W, HW, HWC, NHWC, NDHWC')
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Write outputs into DIR (same relative paths); every path is an input')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads [default: all cores]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads [default: all cores]')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Keep a deterministic 1/N of the inputs: part K of N (0 <= K < N)')
            [CompletionResult]::new('--ceil', '--ceil', [CompletionResultType]::ParameterName, 'Round the output size up (a last partial window that starts inside the input or the begin padding is kept)')
            [CompletionResult]::new('--count-include-pad', '--count-include-pad', [CompletionResultType]::ParameterName, 'With --mode avg, divide by every window cell inside the padded input, padding included')
            [CompletionResult]::new('--global', '--global', [CompletionResultType]::ParameterName, 'Pool each whole map to 1 (spatial axes kept with length 1)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object per array: input and output shape, dtype, parameters (on stderr when OUTPUT is -)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Read only the header, write nothing, print the JSON object')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar and no summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar and no summary')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cnnops;info' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cnnops;man' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cnnops;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cnnops;help' {
            [CompletionResult]::new('relu', 'relu', [CompletionResultType]::ParameterValue, 'Apply ReLU (or leaky ReLU, or clipped ReLU such as ReLU6) to every value')
            [CompletionResult]::new('pool', 'pool', [CompletionResultType]::ParameterValue, 'Pool each activation map with a sliding window (max, avg, lp or min)')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Print shape, dtype, order and sizes of .npy / .npz files as JSON lines')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page of cnnops or of one subcommand (roff)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cnnops;help;relu' {
            break
        }
        'cnnops;help;pool' {
            break
        }
        'cnnops;help;info' {
            break
        }
        'cnnops;help;man' {
            break
        }
        'cnnops;help;completions' {
            break
        }
        'cnnops;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
