// Preloaded into a benchmarked ygg process (node --import): reports its peak RSS on exit.
process.on('exit', () => {
  process.stderr.write(`\nYGG_BENCH_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
