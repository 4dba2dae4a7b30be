// One hidden class for every World.
//
// V8 gives an object literal with 128 or more properties a dictionary-mode map and then a fresh
// fast map when it is first used, so every run's World (131 fields and growing) had a hidden class
// of its own. After four runs the inline caches of the step kernels saw four maps, went megamorphic,
// and markToMarket ran 3.7× slower for the rest of a sweep (found with --trace-deopt: "wrong map").
// Object.assign onto a class instance is no cure (past 128 named stores the object goes to
// dictionary mode); a constructor that assigns every field by name is: V8 sizes the instance from
// the constructor's assignments and all instances share one map, in-object, fast.
//
// The constructor is generated once per field list (the World's fields are fixed by buildWorld,
// so in practice once per process and thread); test/hiddenClasses.test.ts checks the outcome.

type Ctor = new (fields: Record<string, unknown>) => object;
const constructors = new Map<string, Ctor>();
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A copy of `fields` whose hidden class is shared by every copy made from the same field list. */
export function withStableShape<T extends object>(fields: T): T {
  const keys = Object.keys(fields);
  const id = keys.join(',');
  let C = constructors.get(id);
  if (C === undefined) {
    for (const k of keys) if (!IDENTIFIER.test(k)) throw new Error(`internal: field name ${JSON.stringify(k)} is not an identifier`);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from identifiers checked above
    C = new Function('f', keys.map((k) => `this.${k} = f.${k};`).join('\n')) as unknown as Ctor;
    constructors.set(id, C);
  }
  return new C(fields as Record<string, unknown>) as T;
}
