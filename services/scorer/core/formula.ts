// The formula evaluator moved to shared/config, where `config check` compiles it too.
export * from '../../../shared/config/formula.ts';
