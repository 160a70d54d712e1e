// node-gyp-build ships no types: the part native.ts uses
declare module 'node-gyp-build' {
  const nodeGypBuild: {
    /** the path of the binary it would load from the package in `dir`; throws saying what it sought */
    path(dir: string): string;
  };
  export default nodeGypBuild;
}
