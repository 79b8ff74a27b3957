// tsx's loader after every runtime dependency (see tsx-loader.mjs): for processes that may load
// any part of the sources, such as the benchmark and the test runner (`node --import`).
import { ALL_DEPENDENCIES, registerTsx } from './tsx-loader.mjs';

await registerTsx(ALL_DEPENDENCIES);
