use hasten::ParamValue;

#[derive(ParamValue)]
enum Shape {
    Circle,
    Square(u32),
}

fn main() {}
