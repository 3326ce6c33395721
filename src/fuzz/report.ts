// What one fuzz target reports: how many cases ran and what went wrong, with a few reproducible examples.

export interface FuzzReport {
  name: string;
  cases: number;
  crashes: number;
  slowCases: number;
  invalidValues: number;
  maxMs: number;
  examples: string[];
}
