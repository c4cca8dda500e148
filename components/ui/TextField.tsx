// An uncontrolled input, so what the user typed survives a server answer with
// field errors (ActionForm keeps React from resetting the form).
import { controlProps, Field, type FieldProps } from './Field';

type TextFieldProps = FieldProps & {
  name: string;
  type?: 'text' | 'email' | 'password';
  autoComplete?: string;
  defaultValue?: string;
  required?: boolean;
  minLength?: number;
};

export function TextField(props: TextFieldProps) {
  const { name, type = 'text', autoComplete, defaultValue, required, minLength, ...field } = props;
  return (
    <Field {...field}>
      <input
        {...controlProps(field)}
        name={name}
        type={type}
        autoComplete={autoComplete}
        defaultValue={defaultValue}
        required={required}
        minLength={minLength}
      />
    </Field>
  );
}
