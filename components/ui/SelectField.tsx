import { controlProps, Field, type FieldProps } from './Field';

export interface SelectOption {
  value: string;
  label: string;
}

type SelectFieldProps = FieldProps & {
  name: string;
  defaultValue: string;
  options: readonly SelectOption[];
};

export function SelectField({ name, defaultValue, options, ...field }: SelectFieldProps) {
  return (
    <Field {...field}>
      <select {...controlProps(field)} name={name} defaultValue={defaultValue}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Field>
  );
}
