// Preloaded (node --import) into a ygg process by last-resort.test.ts: SIGUSR2 makes an error that
// nothing catches, the way a bug in a callback would. YGG_TEST_CRASH=throw throws; otherwise a
// promise rejects with no one awaiting it.
process.on('SIGUSR2', () => {
  if (process.env['YGG_TEST_CRASH'] === 'throw') throw new Error('boom in a callback');
  void Promise.reject(new Error('boom in a promise'));
});
