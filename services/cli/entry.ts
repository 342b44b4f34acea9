// The process entry of the `zgas` command (bin/zgas.js loads it through tsx).
import { main } from './main.ts';

await main();
