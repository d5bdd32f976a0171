// aws-local-stepfunctions 3 targets node >= 22 and calls Promise.withResolvers (node 22); node 20 lacks it.
// Loaded with `node --require ./polyfill.cjs` before anything else runs.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
