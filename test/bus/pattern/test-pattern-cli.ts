// A tiny stand-alone entry for the spawn test: the real `rebound` binary mounts the same command factory.
import { testPatternCommand } from '../../../src/cli/commands/test-pattern.ts';

await testPatternCommand().parseAsync(process.argv);
