// The Kubernetes OpenAPI schemas (and so kubernetes-models' validate()) allow unknown
// fields: a typo such as `imagePullPolicyy` validates, and the API server drops it or
// (with `kubectl apply --validate=strict`, the default since 1.25) rejects it.
// This walks each object against the TypeScript interfaces that kubernetes-models
// generates from the same OpenAPI document and reports every field they do not declare.
import { join } from "node:path";
import ts from "typescript";

/** apiVersion/kind -> module path and interface name inside kubernetes-models. */
function modulePathOf(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

export class StrictFieldChecker {
  private readonly checker: ts.TypeChecker;
  private readonly types = new Map<string, ts.Type>();

  /** Builds one TypeScript program over the interfaces of the given kinds (apiVersion + kind). */
  constructor(kinds: readonly { apiVersion: string; kind: string }[], projectRoot: string) {
    const unique = [...new Map(kinds.map((k) => [`${k.apiVersion}/${k.kind}`, k])).values()];
    const lines = unique.map((k, i) => `import type { I${k.kind} as T${i} } from "${modulePathOf(k.apiVersion, k.kind)}";`);
    lines.push(`export interface Kinds {`, ...unique.map((k, i) => `  ${JSON.stringify(`${k.apiVersion}/${k.kind}`)}: T${i};`), `}`);
    const fileName = join(projectRoot, "tests", "kustomize", "__strict_fields_virtual__.ts");
    const source = lines.join("\n");
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ESNext,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang, onError, create) =>
      name === fileName ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, onError, create);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name === fileName || fileExists(name);
    host.getCurrentDirectory = () => projectRoot;
    const program = ts.createProgram([fileName], options, host);
    const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(fileName));
    if (diagnostics.length > 0) {
      const text = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n");
      throw new Error(`kubernetes-models has no interface for some kind:\n${text}`);
    }
    this.checker = program.getTypeChecker();
    const sf = program.getSourceFile(fileName)!;
    const kindsDecl = sf.statements.find(ts.isInterfaceDeclaration)!;
    const kindsType = this.checker.getTypeAtLocation(kindsDecl);
    for (const prop of this.checker.getPropertiesOfType(kindsType)) {
      this.types.set(prop.name, this.checker.getTypeOfSymbol(prop));
    }
  }

  /** Paths of fields in `obj` that its kind's schema does not declare (empty: all known). */
  unknownFields(obj: { apiVersion: string; kind: string }): string[] {
    const type = this.types.get(`${obj.apiVersion}/${obj.kind}`);
    if (!type) throw new Error(`no schema loaded for ${obj.apiVersion}/${obj.kind}`);
    const errors: string[] = [];
    this.walk(obj, type, obj.kind, errors);
    return errors;
  }

  private walk(value: unknown, type: ts.Type, path: string, errors: string[]): void {
    if (value === null || value === undefined) return;
    const c = this.checker;
    let t = c.getNonNullableType(type);
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
    const members = t.isUnion() ? t.types : [t];
    if (Array.isArray(value)) {
      const arrayType = members.find((m) => c.isArrayType(m));
      if (!arrayType) return; // a type mismatch: validate() reports those
      const element = c.getTypeArguments(arrayType as ts.TypeReference)[0];
      if (!element) return;
      value.forEach((item, i) => this.walk(item, element, `${path}[${i}]`, errors));
      return;
    }
    if (typeof value !== "object") return;
    const objectType = members.find((m) => m.flags & ts.TypeFlags.Object && !c.isArrayType(m));
    if (!objectType) return;
    t = objectType;
    const index = c.getIndexInfoOfType(t, ts.IndexKind.String);
    const props = new Map(c.getPropertiesOfType(t).map((p) => [p.name, p]));
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const prop = props.get(key);
      if (prop) this.walk(child, c.getTypeOfSymbol(prop), `${path}.${key}`, errors);
      else if (index) this.walk(child, index.type, `${path}.${key}`, errors);
      else errors.push(`${path}.${key}`);
    }
  }
}
