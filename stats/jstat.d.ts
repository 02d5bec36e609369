// jStat ships no types; these declare only the parts stats/ uses.
declare module 'jstat' {
  interface JStat {
    gammaln(x: number): number
    normal: {
      inv(p: number, mean: number, std: number): number
    }
    studentt: {
      inv(p: number, dof: number): number
    }
  }
  const jStat: JStat
  export default jStat
}
