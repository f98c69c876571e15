// ml-regression ships no type declarations; this covers the part pdpilot uses.
declare module 'ml-regression' {
  export class MultivariateLinearRegression {
    constructor(x: number[][], y: number[][], options?: { intercept?: boolean; statistics?: boolean });
    /** One row per feature, then (with intercept) a last row for the intercept; one column per output. */
    weights: number[][];
    predict(x: number[]): number[];
  }
  const mlRegression: { MultivariateLinearRegression: typeof MultivariateLinearRegression };
  export default mlRegression;
}
